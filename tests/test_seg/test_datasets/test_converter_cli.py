"""cen_mm.seg.datasets.converter_cli: the command line of tools/dataset_converters/
nyud.py and sunrgbd.py (flags, exit status, messages)."""
import pytest

from cen_mm.seg.datasets.conversion import NYUDV2_SPEC, SUNRGBD_SPEC
from cen_mm.seg.datasets.converter_cli import build_converter_parser, converter_main
from tests.fixtures.tools import load_tool


@pytest.mark.parametrize('spec, layouts', [(NYUDV2_SPEC, ('auto', 'cen', 'cmx')),
                                           (SUNRGBD_SPEC, ('auto', 'cmx'))])
def test_flags_and_defaults(spec, layouts):
    parser = build_converter_parser(spec)
    layout = next(a for a in parser._actions if a.dest == 'layout')
    assert tuple(layout.choices) == layouts
    args = parser.parse_args(['SRC', '-o', 'OUT'])
    assert vars(args) == dict(src='SRC', out='OUT', layout='auto', train_list=None,
                              test_list=None, depth_encoding='auto', depth_scale=None,
                              overwrite=False, nproc=1)
    args = parser.parse_args(['SRC', '--out', 'OUT', '--layout', 'cmx', '--train-list',
                              'a.txt', '--test-list', 'b.txt', '--depth-encoding',
                              'linear', '--depth-scale', '0.001', '--overwrite',
                              '--nproc', '3'])
    assert (args.layout, args.train_list, args.test_list, args.depth_encoding,
            args.depth_scale, args.overwrite, args.nproc) == (
                'cmx', 'a.txt', 'b.txt', 'linear', 0.001, True, 3)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(['SRC'])  # -o is required
    assert info.value.code == 2


@pytest.mark.parametrize('tool, spec', [('nyud.py', NYUDV2_SPEC),
                                        ('sunrgbd.py', SUNRGBD_SPEC)])
def test_refused_source_exits_1_with_two_lines(tool, spec, tmp_path, capsys):
    missing, out = str(tmp_path / 'missing'), str(tmp_path / 'out')
    main = load_tool(f'tools/dataset_converters/{tool}').main
    for run in (main, lambda argv: converter_main(spec, argv)):
        assert run([missing, '-o', out]) == 1
        captured = capsys.readouterr()
        assert captured.out == ''
        assert captured.err.splitlines() == [
            f'error: source {missing} is not a directory',
            f'nothing was written to {out}']
    assert list(tmp_path.iterdir()) == []
