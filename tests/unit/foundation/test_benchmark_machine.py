"""casetrail_tools.benchmarks.machine.cpu_facts: every benchmark prints the CPU it ran on; a virtual
machine's generic name ("AMD EPYC") needs the family and model beside it to compare figures."""

from __future__ import annotations

from casetrail_tools.benchmarks.machine import cpu_facts

ZEN3_VM = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx avx2 sha_ni vaes

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 99
model name\t: something else
flags\t\t: avx512f avx512_vnni
"""


def test_the_first_processor_is_named_with_its_family_model_and_widest_dot_product_simd():
    assert cpu_facts(ZEN3_VM) == {"cpu": "AMD EPYC", "simd": "avx2", "cpu_id": "AuthenticAMD family 25 model 1"}


def test_avx512_vnni_is_named_before_avx2():
    info = "vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 106\nmodel name\t: Intel Xeon\nflags\t: avx2 avx512f avx512_vnni\n"
    assert cpu_facts(info) == {"cpu": "Intel Xeon", "simd": "avx512_vnni", "cpu_id": "GenuineIntel family 6 model 106"}


def test_a_cpuinfo_without_family_or_flags_still_names_what_it_has():
    assert cpu_facts("model name\t: ARMv8 Processor\n") == {"cpu": "ARMv8 Processor", "simd": "none"}
