"""Solutions of the notebooks' exercises, shown only when a reader asks: ``solution(name)`` in
:mod:`convmixer.notebook`. Keyed ``"NN-short-name"`` (NN: the notebook's number); values are
markdown with code in fenced blocks."""

SOLUTIONS: dict[str, str] = {}

# --- 01 · Depth-wise convolution ----------------------------------------------------------------
SOLUTIONS.update({
    "01-parameters": """The depth-wise layer holds one $7 \\times 7$ kernel and one bias per channel; the full
one holds a $7 \\times 7$ kernel for every (output, input) channel pair and one bias per output
channel:

```python
depthwise_parameters = 768 * 7 * 7 + 768       # 38,400
full_parameters = 768 * 768 * 7 * 7 + 768      # 28,902,144, 753 times more
```""",
    "01-padding": """$k - 1 = 5$ zeros in total: $(k - 1) /\\!/ 2 = 2$ above and $k /\\!/ 2 = 3$ below
(`same_padding(6)`). With `padding=(k - 1) // 2 = 2` on both ends,
$H_\\text{out} = 32 + 2 + 2 - 6 + 1 = 31$:

```python
padding = (2, 3)
height_with_naive_padding = 31
```""",
    "01-receptive-field": """$\\mathrm{RF}(L) = 1 + L\\,(k - 1) = 1 + 8L \\ge 32$ needs $L \\ge 31 / 8 = 3.9$: four
layers (33 pixels; three see only 25).

```python
layers_needed = 4
```""",
    "01-shift-kernel": """With "same" padding and $k = 3$, output pixel $(i, j)$ is
$\\sum_{u, v} w[u, v]\\, x[i + u - 1, j + v - 1]$. To read $x[i, j - 1]$ alone, the weight at
$u = 1$ (the middle row) and $v = 0$ (the left column) is 1 and every other weight is 0:

```python
shift_right = torch.tensor([[0.0, 0.0, 0.0],
                            [1.0, 0.0, 0.0],
                            [0.0, 0.0, 0.0]])
```

A convolution in the textbook sense flips the kernel and would need the 1 in the right column;
PyTorch's `conv2d` is a cross-correlation and does not flip.""",
})

# --- 02 · Point-wise convolution ----------------------------------------------------------------
SOLUTIONS.update({
    "02-pointwise-parameters": """A $1 \\times 1$ convolution from 256 to 512 channels is a $512 \\times 256$ matrix
plus 512 biases, the same as `nn.Linear(256, 512)`:

```python
pointwise_parameters = 256 * 512 + 512   # 131,584
```""",
    "02-rotate-colours": """Row $o$ holds the weights that output channel $o$ gives the three input channels:
new red (row 0) takes old green (column 1), new green (row 1) old blue (column 2), new blue
(row 2) old red (column 0):

```python
rotate = torch.tensor([[0.0, 1.0, 0.0],
                       [0.0, 0.0, 1.0],
                       [1.0, 0.0, 0.0]])
```

A permutation matrix: a single 1 in every row and every column.""",
    "02-smallest-width": """The ratio is $h k^2 / (h + k^2)$ with $k^2 = 81$. Setting it to 50 gives
$81 h = 50 h + 4050$, $h = 4050 / 31 \\approx 130.6$, so the smallest whole width is 131
(130 gives 49.9 times, 131 gives 50.05 times):

```python
smallest_width = 131
```""",
})

# --- 03 · Patch embeddings ----------------------------------------------------------------------
SOLUTIONS.update({
    "03-tokens": """$224 / 14 = 16$ patches per side, $16^2 = 256$ tokens; each patch holds
$c_{in} p^2 = 3 \\cdot 14^2 = 588$ numbers:

```python
tokens_p14 = (224 // 14) ** 2       # 256
patch_vector_length = 3 * 14 * 14   # 588
```""",
    "03-stem-parameters": """The convolution maps every $3 \\times 7 \\times 7$ patch to $h = 768$ numbers:
$W$ is $768 \\times 147$, plus 768 biases (BatchNorm's $2h$ belong to the stem, not to its
convolution):

```python
stem_conv_parameters = 3 * 7 * 7 * 768 + 768   # 113,664
```""",
    "03-overlapping-patches": """A 4-pixel window moved in steps of 2 over 32 pixels fits
$(32 - 4) / 2 + 1 = 15$ positions per side, $15^2 = 225$ patches:

```python
overlapping_patches = ((32 - 4) // 2 + 1) ** 2   # 225
```

Why `unpatchify` cannot undo it: with a stride smaller than the kernel a pixel belongs to several
patches, so `unfold`'s columns repeat it, and `fold` *adds* the copies back together instead of
restoring the image (an inner pixel comes back 4 times as bright). Only kernel = stride cuts the
image into tokens that share no pixel.""",
    "03-grid-to-sequence": """Put the channel axis last first, so that the $h$ channels of each position are
neighbours in the new order, then merge the two grid axes:

```python
def to_sequence(grid):
    batch, h, rows, cols = grid.shape
    return grid.permute(0, 2, 3, 1).reshape(batch, rows * cols, h)
```

`permute` only changes the view; `reshape` then copies the numbers into the new order (the
permuted tensor is not contiguous). Reshaping *before* moving the channels is the mistake of
section 5.""",
})

# --- 04 · The ConvMixer model ---------------------------------------------------------------------
SOLUTIONS.update({
    "04-parameters": """The closed form of section 7, with $h = 512$, $d = 12$, $k = 8$, $p = 4$, $n = 10$, $c_{in} = 3$:

```python
h, d, k, p, n, c_in = 512, 12, 8, 4, 10, 3
stem = c_in * p**2 * h + h + 2 * h          # convolution weights, bias, BatchNorm gamma and beta
depthwise = h * k**2 + h + 2 * h
pointwise = h * h + h + 2 * h
head = h * n + n
parameters_512_12 = stem + d * (depthwise + pointwise) + head   # 3,607,050
```

An even $k$ changes only the padding, not the number of weights.""",
    "04-smallest-depth": """$\\mathrm{RF}(d) = p\\,(1 + d(k - 1)) = 2\\,(1 + 4d)$ must reach 32, so
$1 + 4d \\ge 16$, $d \\ge 3.75$:

```python
smallest_depth = next(d for d in range(1, 100) if 2 * (1 + d * (5 - 1)) >= 32)   # 4
```""",
    "04-pointwise-share": """Per grid position the depth-wise convolution does $h k^2$ multiply-adds and the
point-wise one $h^2$; the number of positions cancels:

```python
h, k = 256, 5
pointwise_share = round(h * h / (h * k**2 + h * h), 2)   # h / (h + k^2) = 256 / 281 = 0.91
```""",
    "04-batchnorm-eval": """Eval mode uses the running statistics:
$\\gamma\\,(x - \\mu_{run}) / \\sqrt{v_{run} + \\epsilon} + \\beta$.

```python
batchnorm_output = 0.5 * (6.0 - 2.0) / (4.0 + 0.0) ** 0.5 + 1.0   # 2.0
```

In training mode the same input would be normalised with the mean and variance of its batch
instead, and the answer would depend on the other values in the batch.""",
})

# --- 06 · Kernels and activations ---------------------------------------------------------------
SOLUTIONS.update({
    "06-stem-filter-numbers": """One $p \\times p$ filter per input colour channel ($c_{in} = 3$), for each of the
$h$ output channels:

```python
stem_filter_numbers = config.dim * config.in_channels * config.patch_size**2
```""",
    "06-receptive-field-z2": """The stem sees one $p \\times p$ patch; each block's $k \\times k$ depth-wise
convolution adds $k - 1$ grid positions of $p$ pixels: $p\\,(1 + 2(k - 1))$ after two blocks.

```python
receptive_field_z2 = config.patch_size * (1 + 2 * (config.kernel_size - 1))
```""",
    "06-logit-from-cam": """The head averages the last map over the grid and applies one linear layer, so
$y_c = \\mathrm{mean}_{i,j}\\, \\mathrm{CAM}_c(i, j) + b_c$:

```python
logit = cam_mean + model.head.fc.bias[result.target].item()
```""",
})

# --- 07 · Kernel size and depth ------------------------------------------------------------------
SOLUTIONS.update({
    "07-depthwise-parameters": """Each of the 8 depth-wise convolutions holds one $9 \\times 9$ kernel and one
bias per channel, $h k^2 + h$ with $h = 64$:

```python
depthwise_parameters = 8 * (64 * 9 * 9 + 64)   # 41,984 of the model's 81,226
```""",
    "07-paper-receptive-field": """$\\mathrm{RF} = p\\,(1 + d(k - 1)) = 7\\,(1 + 20 \\cdot 8)$: five times the 224-pixel
image, so every position of the last block can see all of it.

```python
paper_receptive_field = 7 * (1 + 20 * (9 - 1))   # 1,127 pixels
```""",
    "07-difference-spread": """The two runs are independent, so their variances add:
$\\mathrm{Var}(a - b) = s^2 + s^2$, and the standard deviation is $s\\sqrt{2}$ (about 1.19 points
here). Section 3's 95 % interval is this times Student's $t$.

```python
difference_std = noise.std * math.sqrt(2)
```""",
})

# --- 05 · Training on CIFAR-10 ----------------------------------------------------------------------
SOLUTIONS.update({
    "05-initial-loss": """An untrained model gives each of the $n = 10$ classes probability about $1/n$, and
cross-entropy is $-\\ln$ of the probability of the true class:

```python
expected_initial_loss = -math.log(1 / 10)   # = ln 10 = 2.303
```""",
    "05-sgd-update": """Plain gradient descent moves each weight against its gradient, by the learning rate:
$w \\leftarrow w - \\eta\\, \\partial L / \\partial w$.

```python
def sgd_update(weight, gradient, lr):
    return weight - lr * gradient
```

AdamW, which the recipe uses, divides the gradient by a running estimate of its size and shrinks
every weight a little (weight decay); the direction is still against the gradient.""",
    "05-standard-error": """Each of the $n$ images is right with probability $a$, independently: the count right
is binomial with variance $n a (1 - a)$, so the fraction right has variance $a(1-a)/n$:

```python
def standard_error(accuracy, images):
    return math.sqrt(accuracy * (1 - accuracy) / images)   # 0.8 on 5,000 images: 0.0057
```

So an accuracy of 80 % measured on 5,000 validation images is $80 \\pm 1.1$ % ($\\pm 2$ standard
errors); on 1,000 images it is $\\pm 2.5$ %.""",
    "05-total-steps": """Every epoch makes `len(images) // batch_size` steps (the last, incomplete batch is
dropped), for `epochs` epochs:

```python
cpu = get_profile("cpu")
images = len(train_set.subset(cpu.train_subset, cpu.seed))   # the whole training split: train_subset is None
total_steps = cpu.epochs * (images // cpu.batch_size)
```""",
})
