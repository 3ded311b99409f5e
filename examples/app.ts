import { App } from 'cdk8s';
import { churnEndToEnd } from './churn/serving';
import { diamondPipeline } from './diamond/pipeline';
import { fanOutPipeline } from './fanout/pipeline';
import { churnNightly } from './nightly/pipeline';
import { recommendServing } from './recommend/serving';
import { hourlyScoring } from './scoring/pipeline';
import { sweepPipeline } from './sweep/pipeline';

/** Adds every example (pipelines, and the recommendation model's serving) to `app`; each becomes one file in dist/. */
export function addExamples(app: App): void {
  churnEndToEnd(app);
  sweepPipeline(app);
  churnNightly(app);
  hourlyScoring(app);
  diamondPipeline(app);
  fanOutPipeline(app);
  recommendServing(app);
}
