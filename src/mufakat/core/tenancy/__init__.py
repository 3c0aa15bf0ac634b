"""Tenancy: organisations, memberships, roles and grants, reference data, demo users."""
