// The label-conditioned VAE of Kingma, Rezende, Mohamed & Welling 2014 ("Semi-supervised learning with deep
// generative models", model M2, with every label known): encoder q(z|x,y), decoder p(x|z,y), prior N(0, I) on the
// style code z, and a classifier q(y|x) trained beside them. Its forward and hand-written backward passes, and the
// plain VAE it is for one fixed label. Not the semi-supervised sum over unknown labels; no I/O, no threads.
//
// Size letters as in model.hpp, and C classes. y enters both networks as a one-hot column (C, B) appended to the
// input: the encoder reads [x; y] (D + C), the decoder [z; y] (Z + C), so layer shapes are nn.Linear's.
#pragma once
#include <vector>

#include "vae/model.hpp"

namespace vae {

template <class T>
struct CvaeT {
  VaeT<T> net;  // net.arch: D, hidden, Z; net.layout from layout_make_conditional (the classifier's tensors too)
  int C = 10;
  std::vector<int> classifier_hidden;
};
using Cvae = CvaeT<float>;
// Glorot-uniform weights and zero biases, as vae_make.
template <class T = float>
CvaeT<T> cvae_make(const Arch& arch, int C, const std::vector<int>& classifier_hidden, uint64_t seed);

template <class T>
struct CvaeWorkspaceT {
  WorkspaceT<T> vae;        // the encoder's and decoder's activations, as for the plain model
  Mat<T> onehot;            // (C, B)
  Mat<T> xin, zin;          // (D + C, B) [x; y] and (Z + C, B) [z; y]
  std::vector<Mat<T>> c;    // the classifier's hidden outputs after ReLU
  Mat<T> cls_logits, logq;  // (C, B) logits and log q(y|x) (log-softmax)
  RowVec<T> ce;             // (B) -log q(y_b|x_b), nats
  Mat<T> d_out, d_tmp;      // backward scratch
};

// Sums over the batch, in nats: the ELBO of log p(x|y) is -(rec + kl); ce is the classifier's cross-entropy and
// correct how many argmax q(y|x) equal y.
struct CvaeSum {
  ElboSum elbo;
  double ce = 0;
  int correct = 0;
};

// Cross-entropy of a softmax: log q = logits - logsumexp(logits) per column; per_image_b = -log q(y_b).
template <class T>
void softmax_ce_forward(const Mat<T>& logits, const std::vector<int>& y, Mat<T>& logq, RowVec<T>& per_image);
// d/dlogits = softmax - onehot(y), times scale.
template <class T>
void softmax_ce_backward(const Mat<T>& logq, const std::vector<int>& y, T scale, Mat<T>& dlogits);

// The classifier alone: ws.c, ws.cls_logits and ws.logq for X (D, B).
template <class T>
void cvae_classify(const CvaeT<T>& m, const MatRef<T>& X, CvaeWorkspaceT<T>& ws);
// Full forward for a batch X (D, B) with labels y (B values in 0..C-1) and noise eps (Z, B).
template <class T>
CvaeSum cvae_forward(const CvaeT<T>& m, const MatRef<T>& X, const std::vector<int>& y, const MatRef<T>& eps,
                     CvaeWorkspaceT<T>& ws);
// Backward of loss = scale * sum_b (rec_b + beta * kl_b + alpha * ce_b), in exactly the reverse order of
// cvae_forward (the classifier, then the VAE as vae_backward does it); every gradient written into grads.
template <class T>
void cvae_backward(const CvaeT<T>& m, const MatRef<T>& X, const std::vector<int>& y, T beta, T alpha, T scale,
                   CvaeWorkspaceT<T>& ws, T* grads);

// The plain VAE that the conditional one is for label y: the label's column of each first layer folded into that
// layer's bias (W [x; e_y] + b = W_x x + (b + W_y)). Everything that runs a plain model (the packed kernel, the
// grids, the importance-weighted bound of log p(x|y)) runs it.
template <class T>
VaeT<T> cvae_for_label(const CvaeT<T>& m, int y);

}  // namespace vae
