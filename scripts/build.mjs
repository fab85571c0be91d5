// `npm run build`: the compiler, runtime and CLI as ES modules with .d.ts in dist/ (plus the
// AssemblyScript kernels the compiler reads at run time, and hand-written .d.ts such as the
// Vite plugin's client types), and the standalone runtime package
// in packages/runtime/dist/.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = (project) => execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: root, stdio: 'inherit' });

rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'packages/runtime/dist'), { recursive: true, force: true });
tsc('tsconfig.build.json');
tsc('packages/runtime/tsconfig.json');
cpSync(join(root, 'assembly'), join(root, 'dist/assembly'), { recursive: true });
for (const f of readdirSync(join(root, 'compiler'), { recursive: true })) {
  if (f.endsWith('.d.ts')) cpSync(join(root, 'compiler', f), join(root, 'dist/compiler', f));
}
chmodSync(join(root, 'dist/compiler/cli/bin.js'), 0o755);
