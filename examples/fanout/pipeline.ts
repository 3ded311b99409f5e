import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { ContainerStep, Dataset, FanOut, Pipeline, Workspace, WorkspaceAccess } from '../../src';

/** The regions forecast separately, with the currency each reports in. */
export const REGIONS = [
  { region: 'emea', currency: 'EUR' },
  { region: 'amer', currency: 'USD' },
  { region: 'apac', currency: 'JPY' },
];

/**
 * A fan-out over a list of items, as Argo's `loops-maps` example (`withItems` over objects)
 * and KFP's `dsl.ParallelFor` express it: extract the sales once, fit one forecast per
 * region (two at a time, each retried on its own), then publish every region's forecast
 * in one step that reads a folder per region.
 */
export function fanOutPipeline(scope: Construct): Pipeline {
  const pipeline = new Pipeline(scope, 'forecast', {
    namespace: 'ml-forecast',
    workspace: Workspace.claim({ size: Size.gibibytes(20), storageClassName: 'filestore-rwx', access: WorkspaceAccess.READ_WRITE_MANY }),
    defaults: { image: 'ghcr.io/acme-ml/forecast:3.2.0' },
    runDeadline: Duration.hours(4),
  });
  const extract = new ContainerStep(pipeline, 'extract', {
    command: ['python', '-m', 'forecast.extract'],
    outputs: { sales: Dataset },
  });
  const fit = new FanOut(pipeline, 'fit', {
    items: REGIONS,
    parallelism: 2,
    // Kubernetes expands $(VAR) in args from the container's env: no shell needed.
    command: ['python', '-m', 'forecast.fit'],
    args: ['--region', '$(MLOPS_ITEM_REGION)', '--currency', '$(MLOPS_ITEM_CURRENCY)'],
    inputs: { sales: extract.outputs.sales },
    outputs: { forecast: Dataset },
    retries: 1,
    timeout: Duration.hours(1),
  });
  new ContainerStep(pipeline, 'publish', {
    command: ['python', '-m', 'forecast.publish'],
    inputs: { forecasts: fit.outputs.forecast },
  });
  return pipeline;
}
