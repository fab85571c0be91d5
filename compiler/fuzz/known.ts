// Failure categories the fuzzer finds today and that are being fixed (issue 9). A failure in
// one of these is still printed and counted, under its issue, but does not fail the run
// unless --strict; tests/fuzz.test.ts asserts each one still occurs, so a fix flips that test
// and whoever lands the fix deletes the line here. Anything else fails the run.

// Issue 9's defects 1–4 and the categories the fuzzer found beside them (outputs read after
// the state writes, in-place updates of a state the entry does not store or of a constant)
// are fixed: effects are explicit in the IR (ir/effects.ts), the planner donates only
// same-shape buffers, and the reference follows PyTorch's NaN semantics.
export const KNOWN_FAILURES: Readonly<Record<string, string>> = {};
