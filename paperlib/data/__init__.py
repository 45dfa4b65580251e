"""Data sets as uint8 ImageSets: OpenMoji (rendered offline), torchvision sets, folders of photos; batch draws."""
