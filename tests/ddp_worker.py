"""Started by torchrun from tests/test_distributed.py: `train()` on every rank.

    python -m torch.distributed.run --standalone --nproc_per_node 2 tests/ddp_worker.py \
        PARAMS MODEL DATA OUT LOG CHECKPOINTS [STOP_AFTER_EPOCH]
"""

import sys

import yaml

from attr2img.train.loop import train
from conftest import stop_after

params_file, model, data, out, log, checkpoints, *stop = sys.argv[1:]
params = yaml.safe_load(open(params_file))
try:
    train(model, data, out, params, "synth-faces", log, checkpoints,
          callbacks=[stop_after(int(stop[0]))] if stop else ())
except KeyboardInterrupt:
    sys.exit(3)
