// The `nn` namespace: modules with PyTorch's names.
export * from './layers.ts';
export { Module, Parameter } from './module.ts';
