"""Intrinsic functions: the parsed-tree model (``base``) and the HOT, CloudFormation and
condition function implementations registered in each version's tables."""
