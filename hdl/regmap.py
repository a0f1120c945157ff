"""Register map of the convolution core: the one definition used by the hardware, the
simulation drivers and the documentation (docs/registers.md is generated from it in spirit: keep
both in step).

Word addresses on :class:`hdl.regbus.RegisterBus`; every register is 32 bits.
"""

from enum import IntEnum

__all__ = ["Reg", "ID_VALUE", "COUNTERS", "MASK_SHADOW", "MASK_ACTIVE", "MASK_WORDS_MAX",
           "Ctrl", "Status"]

ID_VALUE = 0x50414D4B  #: "PAMK"


class Reg(IntEnum):
    ID = 0x000            #: R   ID_VALUE
    INFO = 0x001          #: R   kernel | lanes << 8 | block << 16 | acc_width << 24
    MAX_FRAME = 0x002     #: R   max_height | max_width << 16
    MAX_CHANNELS = 0x003  #: R   max_cin | max_cout << 16
    CTRL = 0x004          #: W   strobes, see Ctrl (reads 0)
    STATUS = 0x005        #: R   see Status
    ERRORS = 0x006        #: R/W1C sticky error flags, bit order of hdl.frame_check.error_layout
    FRAME_SIZE = 0x008    #: RW  height | width << 16
    PADS = 0x009          #: RW  top | bottom << 4 | left << 8 | right << 12
    MODE = 0x00A          #: RW  mode | stride << 4 | zero_gating << 8 (mode: hdl.params.PadMode)
    PAD_VALUE = 0x00B     #: RW  constant of mode CONSTANT (two's complement, act_width bits)
    CHANNELS = 0x00C      #: RW  cin | cout << 16
    SHIFT = 0x00D         #: RW  requantization shift
    THRESHOLD = 0x00E     #: RW  mask threshold, UQ(1, 15) code 0..2**15 (reset 2**14 = 0.5)
    LEARNING = 0x00F      #: RW  learning rate UQ(0, 16) | direction << 16 (1 = prose)
    COUNTER_BASE = 0x010  #: R   performance counters, one word each, in COUNTERS order


#: performance counters (32 bits, wrap around; cleared by Ctrl.CLEAR_COUNTERS)
COUNTERS = (
    "cycles",             # cycles with the core busy
    "input_stalls",       # busy cycles where the core could take an input beat and none came
    "output_stalls",      # cycles where an output beat waited for the consumer
    "windows",            # window beats computed (output position x group x input channel)
    "macs_performed",     # multiplications performed (active lanes only)
    "macs_skipped_mask",  # multiplications skipped by the block mask
    "macs_skipped_zero",  # multiplications skipped by zero gating
    "mask_updates",       # mask/threshold updates completed by the learning units
)

MASK_SHADOW = 0x200       #: RW  shadow bank, word j = mask bits 32j .. 32j + 31
MASK_ACTIVE = 0x300       #: R   active bank, same layout
MASK_WORDS_MAX = 0x100


class Ctrl(IntEnum):
    COMMIT_MASK = 1 << 0      #: swap the mask banks at the next frame boundary
    CLEAR_COUNTERS = 1 << 1   #: zero every performance counter


class Status(IntEnum):
    BUSY = 1 << 0             #: a frame is being received, computed or sent
    MASK_PENDING = 1 << 1     #: a mask commit waits for the next frame boundary
    PARAM_LOADING = 1 << 2    #: a parameter load is in progress
    LEARNING = 1 << 3         #: a mask/threshold update is in progress
