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
