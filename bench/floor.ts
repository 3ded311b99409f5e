/**
 * The cold floor: a fresh node process that loads cdk8s and cdk8s-plus-27 and
 * synthesizes an empty chart, the way an app run by `cdk8s synth` does. Nothing an app
 * does can start faster than this.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

void kplus.Job;
const app = new App();
new Chart(app, 'empty');
app.synth();
