"""Fake vllm.utils.argparse_utils."""
import argparse

FlexibleArgumentParser = argparse.ArgumentParser
