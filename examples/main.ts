import { App } from 'cdk8s';
import { churnPipeline } from './churn/pipeline';

// `cdk8s synth` runs this (compiled) file: every example becomes one file in dist/.
const app = new App();
churnPipeline(app);
app.synth();
