// The `nn` namespace: modules with PyTorch's names.
export * from './layers.ts';
export { Module, Parameter } from './module.ts';
export { RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell, Embedding, EmbeddingBag, type RNNOptions } from './recurrent.ts';
export {
  LayerNorm, MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder,
  Transformer, AdditiveAttention, type AttentionMasks, type KVCache, type TransformerLayerOptions,
} from './attention.ts';
