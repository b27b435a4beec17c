"""Chromatography: gas-chromatograph columns with kinetic adsorption after
Cabrera-Codony, Valverde, Born, Noreldin & Myers (2024), liquid-chromatography column models (lumped rate
model without pores, equilibrium-dispersive model; linear and competitive Langmuir binding), their
semi-analytic solutions (:mod:`pdekit.chromatography.exact`). See docs/features.md."""
from .exact import (GCColumn, btex, btex_chromatogram, langmuir_ideal_pulse, langmuir_ideal_times, moments,
                    outlet_linear, thomas_pulse, transfer_function)
from .fit import chromatogram_moments, fit_chromatogram, load_chromatogram, start_values
from .lcfit import LinearPeakFit, fit_linear_peak
from .model import Binding, Column, Inlet, outlet_from_result

__all__ = ["Column", "Binding", "Inlet", "outlet_from_result", "GCColumn", "btex", "btex_chromatogram", "langmuir_ideal_pulse",
           "langmuir_ideal_times", "moments", "outlet_linear", "thomas_pulse", "transfer_function", "fit_chromatogram", "chromatogram_moments",
           "start_values", "load_chromatogram", "fit_linear_peak", "LinearPeakFit"]
