/** Label and annotation keys the plain backend writes and the coordinator reads. */
export const LABEL_PIPELINE = 'mlops.cdk8s.io/pipeline';
export const LABEL_STEP = 'mlops.cdk8s.io/step';
export const LABEL_ROLE = 'mlops.cdk8s.io/role';
export const ANNOTATION_DEPENDS_ON = 'mlops.cdk8s.io/depends-on';
/** Objects a workload references but the pipeline does not create (Secrets, claims). */
export const ANNOTATION_EXTERNAL_REFS = 'mlops.cdk8s.io/external-refs';
