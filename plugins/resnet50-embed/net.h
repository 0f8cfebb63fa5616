/*
 * net.h — a convolutional network as the executor runs it.
 *
 * The ONNX graph is compiled (net_compile.c) into this flat form: layers in
 * execution order over numbered tensors, with batch-norm already folded into
 * convolution weights, padding folded into the layers, ReLU and residual adds
 * attached to the convolution that produces them.  net_run.c turns it into
 * oneDNN primitives.  Nothing here knows ONNX or flowrun.
 */
#ifndef RESNET50_EMBED_NET_H
#define RESNET50_EMBED_NET_H

#include <stddef.h>

typedef enum net_kind {
    NET_CONV = 1,
    NET_MAXPOOL = 2,
    NET_AVGPOOL = 3, /* global average pooling is an AVGPOOL over the whole map */
    NET_FC = 4,      /* fully connected on the flattened [c,h,w] tensor */
} net_kind;

/* One tensor of one image, logically [c, h, w] (channels first, as ONNX). */
typedef struct net_tensor {
    int c, h, w;
} net_tensor;

typedef struct net_layer {
    net_kind kind;
    char *name;   /* the ONNX node name, for messages; owned by the net */
    int src, dst; /* tensor indices */
    /* CONV: a tensor added to the result before the ReLU (a residual Add),
     * or -1.  The executor may write dst over it, so it must not be read by
     * any later layer. */
    int sum;
    int relu;           /* CONV: ReLU applied last */
    int kh, kw, sh, sw; /* CONV and pools */
    int pt, pl, pb, pr; /* padding top, left, bottom, right */
    int count_pad;      /* AVGPOOL: padded zeros count in the mean */
    int fp32;           /* kept in fp32 when the net runs in bf16 */
    float *weights;     /* CONV [oc][ic][kh][kw], FC [oc][ic]; owned */
    float *bias;        /* [oc], never NULL for CONV and FC; owned */
} net_layer;

/* 3x3 stride 1: the convolutions oneDNN has a Winograd kernel for. */
static inline int net_conv_is_3x3_s1(const net_layer *l)
{
    return l->kind == NET_CONV && l->kh == 3 && l->kw == 3 && l->sh == 1 && l->sw == 1;
}

typedef struct net {
    net_layer *layers; /* owned, n_layers of them, in execution order */
    size_t n_layers;
    net_tensor *tensors; /* owned */
    size_t n_tensors;
    int input;  /* the image tensor: [3, h, w] */
    int output; /* the tensor emitted per image, flattened in [c,h,w] order */
} net;

/* Frees the net, its layers' names and parameters.  NULL is fine. */
void net_free(net *n);

/* Elements of one image's tensor t. */
static inline size_t net_tensor_size(const net *n, int t)
{
    const net_tensor *x = &n->tensors[t];
    return (size_t)x->c * (size_t)x->h * (size_t)x->w;
}

#endif
