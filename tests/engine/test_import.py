import subprocess
import sys


def test_importing_the_engine_leaves_django_unloaded():
    code = (
        "import sys, training.engine\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'celery', 'annotate', 'trl'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_public_api_names_are_exported():
    import training.engine as engine

    for name in engine.__all__:
        assert hasattr(engine, name), name
    assert {"rao_kupper", "davidson", "sft", "sigmoid"} <= set(engine.LOSS_TYPES)
    assert set(engine.TIE_LOSS_TYPES) == {"rao_kupper", "davidson"}
