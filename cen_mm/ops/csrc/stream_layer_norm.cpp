// Per-stream LayerNorm with channel exchange, fused, for the CPU (float32).
//
// M streams stacked stream-major: x is a contiguous (M*N, ..., C) tensor, i.e. M blocks
// of R = numel / (M*C) rows of C channels. Stream m's rows are normalised with ATen's
// own LayerNorm kernel (at::native::LayerNormKernel, the one F.layer_norm runs), with
// stream m's weight and bias, written straight into that stream's slice of the output:
// the same arithmetic as the stock layer per stream, without the concatenation copy.
// The exchange is done on each chunk of rows while it is still in the cache:
//
//   y[m, r, c] <- mean over m' != m of y[m', r, c]     for every listed pair (m, c),
//
// all new values computed from the values before any replacement, summed in ascending
// m' and divided by M-1 when M > 2 (the order cen_mm.core.exchange sums in, so values
// are bit-identical to its per-stream path). Backward builds the gradient of the
// normalised values chunk by chunk (a replaced value passes no gradient to its own
// input; its gradient goes, divided by M-1 when M > 2, to the other streams, added in
// ascending m, as cen_mm.core.exchange._ChannelExchange does), then runs ATen's
// LayerNorm backward kernel once per stream (so γ/β gradients are summed exactly as
// the stock layer sums them).
//
// Python side, loading and fallback: cen_mm/ops/stream_layer_norm.py.

#include <ATen/ATen.h>
#include <ATen/native/layer_norm.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <vector>

namespace {

using at::Tensor;

// Rows per chunk of the exchanging forward and backward: about 1 MiB for the M streams
// together, so that a chunk is still in the L2 cache when the exchange reads it. (Each
// LayerNorm kernel call costs a few microseconds: smaller chunks measured slower.)
int64_t chunk_rows(int64_t streams, int64_t channels) {
  return std::max<int64_t>(
      1, (1024 * 1024 / static_cast<int64_t>(sizeof(float))) / (streams * channels));
}

void check_inputs(const Tensor& x, at::TensorList weight, at::TensorList bias,
                  const Tensor& streams, const Tensor& channels) {
  const int64_t M = static_cast<int64_t>(weight.size());
  TORCH_CHECK(M >= 1 && static_cast<int64_t>(bias.size()) == M,
              "stream_layer_norm: one weight and one bias per stream, got ",
              weight.size(), " and ", bias.size());
  TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == at::kFloat && x.is_contiguous(),
              "stream_layer_norm: x must be a contiguous float32 CPU tensor");
  const int64_t C = weight[0].numel();
  TORCH_CHECK(x.dim() >= 2 && x.size(-1) == C && x.numel() % (M * C) == 0,
              "stream_layer_norm: x of shape ", x.sizes(), " does not hold ", M,
              " streams of ", C, " channels");
  for (int64_t m = 0; m < M; ++m) {
    for (const Tensor& p : {weight[m], bias[m]}) {
      TORCH_CHECK(p.device().is_cpu() && p.scalar_type() == at::kFloat &&
                      p.is_contiguous() && p.dim() == 1 && p.numel() == C,
                  "stream_layer_norm: weight and bias must be contiguous float32 (C,) "
                  "CPU tensors, C = ", C);
    }
  }
  TORCH_CHECK(streams.scalar_type() == at::kLong && channels.scalar_type() == at::kLong &&
                  streams.is_contiguous() && channels.is_contiguous() &&
                  streams.dim() == 1 && streams.numel() == channels.numel(),
              "stream_layer_norm: streams and channels must be int64 vectors of one "
              "length");
  const int64_t* s = streams.data_ptr<int64_t>();
  const int64_t* c = channels.data_ptr<int64_t>();
  for (int64_t k = 0; k < streams.numel(); ++k) {
    TORCH_CHECK(s[k] >= 0 && s[k] < M && c[k] >= 0 && c[k] < C,
                "stream_layer_norm: exchanged pair (", s[k], ", ", c[k],
                ") outside ", M, " streams x ", C, " channels");
    TORCH_CHECK(k == 0 || s[k] > s[k - 1] || (s[k] == s[k - 1] && c[k] > c[k - 1]),
                "stream_layer_norm: exchanged pairs must be sorted stream-major and "
                "unique (as mask.nonzero() gives them)");
  }
}

// The listed pairs as element offsets from a row of stream 0: where each replaced
// value is (dst) and, pair-major, where its M-1 sources are (src, ascending stream).
struct PairOffsets {
  std::vector<int64_t> dst, src;
  PairOffsets(int64_t M, int64_t stride, const Tensor& streams, const Tensor& channels) {
    const int64_t* s = streams.data_ptr<int64_t>();
    const int64_t* c = channels.data_ptr<int64_t>();
    for (int64_t k = 0; k < streams.numel(); ++k) {
      dst.push_back(s[k] * stride + c[k]);
      for (int64_t o = 0; o < M; ++o) {
        if (o != s[k]) src.push_back(o * stride + c[k]);
      }
    }
  }
};

// Forward exchange on rows [begin, end) of every stream.
void exchange_rows(float* y, int64_t M, int64_t C, int64_t begin, int64_t end,
                   const PairOffsets& pairs, float* fresh) {
  const int64_t K = static_cast<int64_t>(pairs.dst.size());
  const int64_t* dst = pairs.dst.data();
  const int64_t* src = pairs.src.data();
  const float scale_by = static_cast<float>(M - 1);
  for (int64_t r = begin; r < end; ++r) {
    float* row = y + r * C;
    if (M == 2) {
      for (int64_t k = 0; k < K; ++k) fresh[k] = row[src[k]];
    } else {
      for (int64_t k = 0; k < K; ++k) {
        const int64_t* from = src + k * (M - 1);
        float total = row[from[0]];
        for (int64_t j = 1; j < M - 1; ++j) total += row[from[j]];
        fresh[k] = total / scale_by;
      }
    }
    for (int64_t k = 0; k < K; ++k) row[dst[k]] = fresh[k];
  }
}

std::tuple<Tensor, Tensor, Tensor> stream_layer_norm(const Tensor& x,
                                                     at::TensorList weight,
                                                     at::TensorList bias, double eps,
                                                     const Tensor& streams,
                                                     const Tensor& channels) {
  check_inputs(x, weight, bias, streams, channels);
  const int64_t M = static_cast<int64_t>(weight.size());
  const int64_t C = weight[0].numel();
  const int64_t R = x.numel() / (M * C);
  Tensor y = at::empty_like(x);
  Tensor mean = at::empty({M * R}, x.options());
  Tensor rstd = at::empty({M * R}, x.options());
  const Tensor x_rows = x.view({M, R, C});
  const Tensor y_rows = y.view({M, R, C});
  const int64_t K = streams.numel();
  std::vector<float> fresh(K);
  const PairOffsets pairs(M, R * C, streams, channels);
  const int64_t step = K ? chunk_rows(M, C) : R;  // no exchange: one call per stream
  for (int64_t begin = 0; begin < R; begin += step) {
    const int64_t n = std::min(step, R - begin);
    for (int64_t m = 0; m < M; ++m) {
      Tensor y_m = y_rows[m].narrow(0, begin, n);
      Tensor mean_m = mean.narrow(0, m * R + begin, n);
      Tensor rstd_m = rstd.narrow(0, m * R + begin, n);
      at::native::LayerNormKernel(at::kCPU, x_rows[m].narrow(0, begin, n), weight[m],
                                  bias[m], n, C, eps, &y_m, &mean_m, &rstd_m);
    }
    if (K) {
      exchange_rows(y.data_ptr<float>(), M, C, begin, begin + n, pairs, fresh.data());
    }
  }
  return {y, mean, rstd};
}

std::vector<Tensor> stream_layer_norm_backward(const Tensor& grad, const Tensor& x,
                                               const Tensor& mean, const Tensor& rstd,
                                               at::TensorList weight,
                                               const Tensor& streams,
                                               const Tensor& channels) {
  const int64_t M = static_cast<int64_t>(weight.size());
  const int64_t C = weight[0].numel();
  const int64_t R = x.numel() / (M * C);
  const int64_t K = streams.numel();
  Tensor g = grad.contiguous();
  if (K) {
    // the gradient of the normalised values: g, replaced pairs zeroed, their
    // gradient passed to the other streams
    Tensor passed_to = at::empty_like(x);
    const float* src = g.data_ptr<float>();
    float* dst = passed_to.data_ptr<float>();
    const int64_t stride = R * C;
    const PairOffsets pairs(M, stride, streams, channels);
    const int64_t* to = pairs.dst.data();
    const int64_t* others = pairs.src.data();
    const int64_t step = chunk_rows(M, C);
    for (int64_t begin = 0; begin < R; begin += step) {
      const int64_t n = std::min(step, R - begin);
      for (int64_t m = 0; m < M; ++m) {
        std::memcpy(dst + m * stride + begin * C, src + m * stride + begin * C,
                    sizeof(float) * n * C);
      }
      for (int64_t r = begin; r < begin + n; ++r) {
        float* row = dst + r * C;
        const float* from = src + r * C;
        for (int64_t k = 0; k < K; ++k) row[to[k]] = 0.f;
        for (int64_t k = 0; k < K; ++k) {
          float value = from[to[k]];
          if (M > 2) value = value / static_cast<float>(M - 1);
          for (int64_t j = 0; j < M - 1; ++j) row[others[k * (M - 1) + j]] += value;
        }
      }
    }
    g = passed_to;
  }
  Tensor dx = at::empty_like(x);
  const Tensor x_rows = x.view({M, R, C});
  const Tensor g_rows = g.view({M, R, C});
  const Tensor dx_rows = dx.view({M, R, C});
  std::vector<Tensor> out{dx};
  std::vector<Tensor> dbias;
  for (int64_t m = 0; m < M; ++m) {
    Tensor dx_m = dx_rows[m];
    Tensor dw_m = at::zeros_like(weight[m]);
    Tensor db_m = at::zeros_like(weight[m]);
    at::native::LayerNormBackwardKernel(at::kCPU, g_rows[m], x_rows[m],
                                        mean.narrow(0, m * R, R),
                                        rstd.narrow(0, m * R, R), weight[m], R, C,
                                        &dx_m, &dw_m, &db_m);
    out.push_back(dw_m);
    dbias.push_back(db_m);
  }
  out.insert(out.end(), dbias.begin(), dbias.end());
  return out;  // dx, dweight_0..M-1, dbias_0..M-1
}

}  // namespace

TORCH_LIBRARY(cen_mm, m) {
  m.def("stream_layer_norm(Tensor x, Tensor[] weight, Tensor[] bias, float eps, "
        "Tensor streams, Tensor channels) -> (Tensor, Tensor, Tensor)",
        &stream_layer_norm);
  m.def("stream_layer_norm_backward(Tensor grad, Tensor x, Tensor mean, Tensor rstd, "
        "Tensor[] weight, Tensor streams, Tensor channels) -> Tensor[]",
        &stream_layer_norm_backward);
}
