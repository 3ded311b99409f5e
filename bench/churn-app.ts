/**
 * The cold-start app of the target: the churn example alone (the README's main one: the
 * pipeline, its promotion and its server), compiled, run by node as `cdk8s synth` runs a
 * user's compiled app. `cdk8s.yaml`'s app synthesizes every example; that is a separate figure.
 */
import { App } from 'cdk8s';
import { churnEndToEnd } from '../examples/churn/serving';

const app = new App();
churnEndToEnd(app);
app.synth();
