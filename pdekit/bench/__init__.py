"""Benchmarks against peer codes (``pdekit bench NAME``); peers are imported lazily."""


def _advection_diffusion(argv):
    from .advection_diffusion import main

    return main(argv)


def _fokker_planck(argv):
    from .fokker_planck import main

    return main(argv)


def _sheaf_diffusion(argv):
    from .sheaf_diffusion import main

    return main(argv)


def _riesz_fractional(argv):
    from .riesz_fractional import main

    return main(argv)


def _chromatography(argv):
    from .chromatography import main

    return main(argv)


#: benchmark name -> main(argv)
BENCHMARKS = {"advection-diffusion": _advection_diffusion, "fokker-planck": _fokker_planck,
              "sheaf-diffusion": _sheaf_diffusion, "riesz-fractional": _riesz_fractional,
              "chromatography": _chromatography}
