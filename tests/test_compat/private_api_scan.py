"""Find uses of private attributes of other objects in Python source (``obj._name``,
``from pkg import _name``, ``pkg._sub`` modules), skipping strings and comments,
``self._x`` / ``cls._x`` (an object's own state) and ``super()._x`` (overriding a
protected template method, the documented way to extend OpenMMLab classes)."""
import io
import tokenize
from typing import List, Tuple

# relative imports and cen_mm's own modules are not upstream APIs
_OWN_PREFIXES = ('.', 'cen_mm', 'tests')


def _is_private(name: str) -> bool:
    return name.startswith('_') and not name.startswith('__') and name[1:2].islower()


def private_uses(source: str) -> List[Tuple[int, str]]:
    """(line, ``owner._name``) for every private access in ``source``."""
    toks = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                              tokenize.INDENT, tokenize.DEDENT)]
    found = []
    for i, tok in enumerate(toks):
        # attribute access: <owner> . _name
        if (tok.type == tokenize.OP and tok.string == '.' and i + 1 < len(toks)
                and toks[i + 1].type == tokenize.NAME and _is_private(toks[i + 1].string)
                and i > 0):
            prev = toks[i - 1]
            name = toks[i + 1].string
            if prev.type == tokenize.NAME:
                if prev.string in ('self', 'cls'):
                    continue
                # inside `from a.b import` / `import a.b`: the dotted module path
                found.append((tok.start[0], f'{prev.string}.{name}'))
            elif prev.string == ')':
                if i >= 3 and toks[i - 3].string == 'super' and toks[i - 2].string == '(':
                    continue
                found.append((tok.start[0], f'().{name}'))
            elif prev.string == ']':
                found.append((tok.start[0], f'[].{name}'))
        # from <module> import _name
        if tok.type == tokenize.NAME and tok.string == 'from':
            j = i + 1
            module = ''
            while j < len(toks) and toks[j].string != 'import':
                module += toks[j].string
                j += 1
            if module.startswith(_OWN_PREFIXES):
                continue
            k = j + 1
            while k < len(toks) and toks[k].type in (tokenize.NAME, tokenize.OP) \
                    and toks[k].string not in ('\n', ) and toks[k].start[0] == toks[j].start[0]:
                if (toks[k].type == tokenize.NAME and _is_private(toks[k].string)
                        and toks[k - 1].string != 'as'):
                    found.append((toks[k].start[0], f'{module}.{toks[k].string}'))
                k += 1
    return found
