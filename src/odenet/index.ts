/**
 * The MNIST ODE-Net of Chen et al. 2018 (§3, Table 1) and its two comparisons, the ResNet and the
 * RK-Net: layers, models with their gradients, the `mnist` package's digits, training, and the
 * memory one gradient holds (by depth and by solver steps).
 */
export { batch, block, countParams, head, norm, stem, type Built, type HeadKind, type Image, type NetSizes } from './blocks.ts';
export { classifier, modelKinds, odeBlockProblem, type Classifier, type OdeBlockProblem, type ClassifierOptions, type Minibatch, type ModelKind, type StepOut } from './models.ts';
export { batchOf, downsample, loadMnist, mnistSide, splitDigits, subset, type Digits, type Split } from './mnist.ts';
export { testError, trainClassifier, type TrainOptions, type TrainResult } from './train.ts';
export { liveSampler, odeBlockMemory, resnetMemory, slope, stateBytes, type LiveSampler, type MemorySetting, type OdeMemoryPoint, type ResNetMemoryPoint } from './memory.ts';
