"""Take a model out of HAMLET: ONNX, TorchScript, safetensors or plain Python source.

Every format can be verified (``verify=True``; CLI ``--verify``): the export is loaded
back by the tool that will use it and must compute the same Q-values and hidden states
as the original (:mod:`.verify`).

Modules: :mod:`.exportable` (what an export is made from), :mod:`.formats` (ONNX,
TorchScript, Python; :func:`export_model`), :mod:`.weights` (safetensors, written and
read), :mod:`.digest` (the digest of a network's weights, which every export and
checkpoint carries), :mod:`.verify`.

Imports: the compiler, the schemas and :mod:`hamlet.runtime.files`; nothing of the
other rooms. It works on a compiled network (:class:`Exportable`), so the model room
can call down into it (``HamletModel.export``, and ``HamletModel.load`` of a
safetensors file).
"""

from .digest import weights_digest
from .exportable import Exportable
from .formats import FORMATS, Export, export_model
from .verify import Verification, verify_export
from .weights import SafetensorsContents, read_safetensors

__all__ = [
    "FORMATS",
    "Export",
    "Exportable",
    "SafetensorsContents",
    "Verification",
    "export_model",
    "read_safetensors",
    "verify_export",
    "weights_digest",
]
