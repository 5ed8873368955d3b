"""rolebot: explains how 营销, 销售, 市场 and 运营 differ, with sources."""

__version__ = "0.1.0"
