/* quant.c — int8 scalar quantization (placeholder, being written; see quant.h). */
#include "vector/quant.h"
