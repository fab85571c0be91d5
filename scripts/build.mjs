// `npm run build`: the compiler, runtime and CLI as ES modules with .d.ts in dist/ (plus the
// AssemblyScript kernels the compiler reads at run time), and the standalone runtime package
// in packages/runtime/dist/.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = (project) => execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: root, stdio: 'inherit' });

rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'packages/runtime/dist'), { recursive: true, force: true });
tsc('tsconfig.build.json');
tsc('packages/runtime/tsconfig.json');
cpSync(join(root, 'assembly'), join(root, 'dist/assembly'), { recursive: true });
chmodSync(join(root, 'dist/compiler/cli/bin.js'), 0o755);
