// ONNX backend node tests whose failure is a known, understood difference (the reason says
// why): reported as "known difference" instead of "fail". Every entry must still fail, or the
// conformance run reports it as passing and the entry should go.
export const KNOWN_DIFFERENCES: Record<string, string> = {
};
