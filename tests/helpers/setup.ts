// Runs before each test file. Test files share modules within a worker (vitest.config.ts), so
// process-wide settings a file may change are put back to their defaults here.
import { manualSeed } from '../../compiler/dsl/module.ts';

manualSeed(42);
