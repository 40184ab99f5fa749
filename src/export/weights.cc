#include "export/weights.h"

namespace fastintent {

std::vector<FloatLayer> FloatLayers(const Network& net) {
  const bool int8 = net.precision == Precision::kInt8;
  std::vector<FloatLayer> out;
  FloatLayer e;
  e.in = net.num_rows;
  e.out = net.width0();
  e.in_major = true;
  e.w.resize(size_t(e.in) * e.out);
  for (uint32_t r = 0; r < e.in; ++r) {
    for (uint32_t j = 0; j < e.out; ++j) {
      const size_t k = size_t(r) * net.stride0() + j;
      e.w[size_t(r) * e.out + j] =
          int8 ? net.embedding_scale[r] * float(net.embedding_q[k]) : net.embedding[k];
    }
  }
  e.b.assign(net.embedding_bias.data(), net.embedding_bias.data() + e.out);
  out.push_back(std::move(e));
  for (const DenseLayer& l : net.layers) {
    FloatLayer f;
    f.in = l.in;
    f.out = l.out;
    f.w.resize(size_t(l.out) * l.in);
    for (uint32_t o = 0; o < l.out; ++o) {
      for (uint32_t i = 0; i < l.in; ++i) {
        f.w[size_t(o) * l.in + i] = int8 ? l.w_scale[o] * float(l.wq[size_t(o) * l.stride_q() + i])
                                         : l.w[size_t(o) * l.stride() + i];
      }
    }
    f.b.assign(l.b.data(), l.b.data() + l.out);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace fastintent
