"""Do recurrent gates learn their roles?"""
__version__ = "0.1.0"
