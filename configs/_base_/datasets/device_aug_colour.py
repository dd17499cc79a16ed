# SimCLR's and BYOL's colour distortion as DeviceAugDataPreprocessor steps:
# colour jitter (0.4, 0.4, 0.2, 0.1) with p = 0.8, then grayscale with
# p = 0.2, the ranges and probabilities of the pipeline transforms.
colour_augments = [
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2,
         hue=0.1, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2,
         channel_weights=(0.114, 0.587, 0.2989)),
]
