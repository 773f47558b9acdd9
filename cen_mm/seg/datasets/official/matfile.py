"""Reading small MATLAB files of the official releases (v5/v7 via scipy, v7.3 via h5py).

MATLAB stores arrays column-major; HDF5 (v7.3) shows them with the dimensions reversed,
scipy shows them as MATLAB does. Only numeric arrays and cell arrays of strings are
read here; nothing in a file is executed.
"""
from typing import Dict, List, Sequence

import numpy as np

from ..conversion import ConversionError


def _is_hdf5(path: str) -> bool:
    with open(path, 'rb') as f:
        head = f.read(512 + 8)
    return head[512:520] == b'\x89HDF\r\n\x1a\n' or head[:8] == b'\x89HDF\r\n\x1a\n'


def load_mat(path: str, keys: Sequence[str], what: str) -> Dict[str, object]:
    """The variables ``keys`` present in the MATLAB file ``path`` (at least one).

    Numeric arrays come back as numpy arrays in MATLAB's orientation; cell arrays of
    strings as lists of str. ConversionError names the file and the expected keys.
    """
    import os.path as osp
    if not osp.isfile(path):
        raise ConversionError(f'{what} file {path} not found')
    found = {}
    try:
        if _is_hdf5(path):
            import h5py
            with h5py.File(path, 'r') as f:
                for key in keys:
                    if key in f:
                        found[key] = _read_h5(f, f[key])
        else:
            import scipy.io
            data = scipy.io.loadmat(path, squeeze_me=False, struct_as_record=True)
            for key in keys:
                if key in data:
                    found[key] = _from_scipy(data[key])
    except (OSError, ValueError, NotImplementedError) as err:
        raise ConversionError(f'{what} file {path} is not a readable MATLAB file: '
                              f'{err}') from None
    if not found:
        raise ConversionError(f'{what} file {path} has none of the variables '
                              f'{list(keys)}: is it the right file?')
    return found


def _from_scipy(value):
    if value.dtype == object:  # cell array
        return [_cell_string(v) for v in value.ravel(order='F')]
    if value.dtype.kind in 'US':
        return [str(v) for v in value.ravel()]
    return np.asarray(value)


def _cell_string(value) -> str:
    value = np.asarray(value)
    if value.dtype.kind in 'US':
        return ''.join(str(v) for v in value.ravel())
    if value.dtype == object and value.size == 1:
        return _cell_string(value.ravel()[0])
    raise ConversionError(f'expected a cell array of strings, found {value!r}')


def _read_h5(f, obj):
    import h5py
    data = obj[()]
    if obj.dtype == h5py.ref_dtype:  # cell array: references to char arrays
        return [_h5_string(f[ref]) for ref in np.asarray(data).ravel(order='F')]
    if obj.attrs.get('MATLAB_class') in (b'char', 'char'):
        return [_chars(np.asarray(data))]
    return np.asarray(data).T  # back to MATLAB's orientation


def _h5_string(obj) -> str:
    return _chars(np.asarray(obj[()]))


def _chars(codes: np.ndarray) -> str:
    return ''.join(chr(int(c)) for c in codes.T.ravel(order='F') if int(c))


def as_index_vector(value, path: str, key: str) -> List[int]:
    """A MATLAB vector of integers (any orientation) -> list of int."""
    array = np.asarray(value)
    if (array.dtype.kind not in 'uif' or array.size == 0 or array.ndim > 2
            or (array.ndim == 2 and min(array.shape) != 1)):
        raise ConversionError(f'{path}: {key} must be a non-empty vector of integers, '
                              f'got shape {array.shape} dtype {array.dtype}')
    flat = array.ravel()
    if not np.all(np.isfinite(flat)) or not np.all(flat == np.round(flat)):
        raise ConversionError(f'{path}: {key} holds non-integer values')
    return [int(v) for v in flat]
