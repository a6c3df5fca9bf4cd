"""Where the modules that moved now live, by their old path below the package (``tools/move_modules.py``
writes this): ``costmodel.<old>`` stays importable as the module at ``costmodel.<new>``."""
MOVED = {
    'conventions': 'core.conventions',
    'errors': 'core.errors',
    'fileio': 'core.fileio',
    'formatting': 'core.formatting',
    'ir': 'core.ir',
    'metrics': 'core.metrics',
    'papers': 'core.papers',
    'ranges': 'core.ranges',
    'scaling': 'core.scaling',
    'shapes': 'core.shapes',
    'symbolic': 'core.symbolic',
    'tomlfiles': 'core.tomlfiles',
    'units': 'core.units',
    'version': 'core.version',
}
