"""Helpers the test suite shares: plain functions and constants, imported by tests and conftest fixtures."""
