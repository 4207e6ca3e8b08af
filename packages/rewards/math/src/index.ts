export { verifySync, type VerifyResult, type VerifyError, type VerifyOptions } from "./verify.js";
export { parseAnswer, type ParsedAnswer } from "./extract.js";
export { normalizeLatex, extractBoxedContent, type BoxedMode } from "./normalize.js";
export { parseLatex, LatexSyntaxError } from "./latex-parser.js";
export { answersEqual, type CompareOptions } from "./compare.js";
export { formatExpr } from "./format.js";
export type { Expr, RelOp } from "./ast.js";
export { VerifierPool, verify, verifyBatch, type PoolOptions, type VerifyPair } from "./pool.js";
export { binaryReward, dapoReward, overlongPenalty, type DapoReward, type OverlongOptions } from "./scoring.js";
