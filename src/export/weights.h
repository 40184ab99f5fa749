// A network's weights as float32 matrices without padding, whatever its precision: what every
// exporter writes. int8 weights are dequantised (w = scale * q).
#pragma once

#include <cstdint>
#include <vector>

#include "model/network.h"

namespace fastintent {

// One dense layer of the exported network: y = W x + b, W row-major.
struct FloatLayer {
  uint32_t in = 0;
  uint32_t out = 0;
  bool in_major = false;  // W is [in][out] (the embedding) rather than [out][in]
  std::vector<float> w;
  std::vector<float> b;
};

// Every layer of `net`: the embedding first ([num_rows][width0], in_major), then the dense
// layers ([out][in]).
std::vector<FloatLayer> FloatLayers(const Network& net);

}  // namespace fastintent
