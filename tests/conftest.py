from __future__ import annotations

import pytest

# Show the differing sets when a contract assertion in the shared test helpers fails.
pytest.register_assert_rewrite("mufakat.core.sharing.testing")
