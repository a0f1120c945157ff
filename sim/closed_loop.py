"""The closed training loop: masks and thresholds from the simulated learning units.

``train_hardware(config, data)`` trains exactly like :func:`golden.train.train` with fixed-point
mask learning, except that every mask update runs through simulated hardware, whose mask and
threshold the training then uses:

* ``exe=None``: the MaskLearning unit in the Amaranth simulator
  (:class:`sim.learning.HardwareLearner`; scores, mask bits and threshold compared);
* ``exe``: a Verilator harness of the whole core for this geometry
  (:func:`sim.verilator_learner.build_learner`), driven through the core's ports
  (:class:`sim.verilator_learner.VerilatorLearner`; mask bits, threshold, error flags and the
  update counter compared).

Each update is replayed by the golden fixed-point model; the result says how many disagreed.
"""

from ..golden.train import train

from .learning import HardwareLearner
from .verilator_learner import VerilatorLearner

__all__ = ["train_hardware"]


def train_hardware(config, data, progress=None, exe=None):
    if config.numerics != "fixed":
        raise ValueError(f"the hardware learns in fixed point: numerics must be 'fixed', not "
                         f"{config.numerics!r}")
    if config.direction is None:
        return train(config, data, progress=progress)  # static variants learn nothing
    height, width = data[0].shape[-2:]
    geometry = dict(height=height, width=width, padding=config.padding, block=config.block,
                    threshold=config.threshold, learning_rate=config.threshold_lr,
                    direction=config.direction, target=config.target)
    if exe is None:
        learner = HardwareLearner(**geometry)
    else:
        learner = VerilatorLearner(exe, **geometry)
    result = train(config, data, learner=learner, progress=progress)
    result.hardware = {"updates": learner.updates, "mismatches": learner.mismatches,
                       "simulator": "amaranth" if exe is None else "verilator"}
    if exe is not None:
        summary = learner.close()
        result.hardware["cycles"] = summary["cycles"]
    return result
