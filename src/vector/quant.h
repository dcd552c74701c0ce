/* quant.h — int8 scalar quantization of float vectors for the approximate index (placeholder, being written). */
#ifndef ENGRAM_VECTOR_QUANT_H
#define ENGRAM_VECTOR_QUANT_H
#endif
