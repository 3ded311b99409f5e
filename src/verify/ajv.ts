/**
 * ajv and its formats, the only code verify needs beyond Node and yaml. `npm run build`
 * replaces this module's output with a self-contained bundle (scripts/bundle-ajv.js), so the
 * package installs no ajv and the library's entry point never loads it.
 */
export { default as Ajv } from 'ajv';
export type { ErrorObject, ValidateFunction } from 'ajv';
export { default as addFormats } from 'ajv-formats';
