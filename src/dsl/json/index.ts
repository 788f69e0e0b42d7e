/**
 * JSON specs of expressions and models: decode (with every error and its path), encode in
 * canonical form, and print for people. The format is documented in docs/spec-format.md.
 */
export { decodeExprSpec, decodeModelSpec, decodeSpec, parseExprSpec, parseModelSpec, parseSpec } from './decode.ts';
export { defaultMaxInlineDepth, encodeExprSpec, encodeModelSpec, type EncodeOptions } from './encode.ts';
export { formatSpecError, formatSpecErrors, type SpecError, type SpecErrorTag } from './errors.ts';
export { exprFormat, modelFormat, type ExprDoc, type ModelDoc, type RawExpr, type RawOp, type RawTensor } from './format.ts';
export { defaultLimits, type SpecLimits } from './limits.ts';
export { stringifySpec } from './pretty.ts';
export { exprSpecOfModel, modelSpecOf, type AnySpec, type ExprSpec, type ModelSpec, type VariableSpec } from './specTypes.ts';
