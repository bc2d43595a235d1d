"""Settings classes read from the environment; `load_config` picks one."""
from config.settings import Config, DevelopmentConfig, ProductionConfig, TestingConfig, load_config

__all__ = ["Config", "DevelopmentConfig", "ProductionConfig", "TestingConfig", "load_config"]
