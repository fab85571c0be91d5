// Ambient types for the Vite plugin's imports: `import url from './model.ts?simdflow'` is the
// URL of the compiled artifact (pass it to loadModel). Reference it from an app with
// `/// <reference types="simdflow/vite/client" />` or `"types": ["simdflow/vite/client"]`.
declare module '*?simdflow' {
  const url: string;
  export default url;
}
