/** The contract's names, as verify uses them; defined once in src/conventions.ts. */
export {
  COORDINATOR_ROLE, DEPENDS_ON_ANNOTATION, EXTERNAL_REFS_ANNOTATION, LEDGER_ANNOTATION, PIPELINE_LABEL, PLAN_KEY,
  ROLE_LABEL, SKIPPED_ANNOTATION, STEP_LABEL,
} from '../conventions';
