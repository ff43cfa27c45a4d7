"""``python -m casetrail.embeddings.native``: build the faster (AVX2 / AVX-512 VNNI) engine (see __init__)."""

import sys

from casetrail.embeddings.native import main

sys.exit(main())
