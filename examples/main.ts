import { App } from 'cdk8s';
import { addExamples } from './app';

// `cdk8s synth` runs the compiled form of this file (see cdk8s.yaml).
const app = new App();
addExamples(app);
app.synth();
