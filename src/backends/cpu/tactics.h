// Registration of the fast CPU tactics, one function per file (called by registerCpuTactics
// before the reference tactics, fastest ISA first, so level-0 builds take them).
#pragma once

namespace kiln::backends {
class TacticRegistry;
}

namespace kiln::backends::cpu {

void registerGemmTactics(TacticRegistry& registry);
void registerConvTactics(TacticRegistry& registry);
void registerDepthwiseTactics(TacticRegistry& registry);
void registerDeconvTactics(TacticRegistry& registry);
void registerPoolingTactics(TacticRegistry& registry);
void registerPointwiseTactics(TacticRegistry& registry);
void registerSoftMaxTactics(TacticRegistry& registry);
void registerAttentionTactics(TacticRegistry& registry);
void registerPointwiseChainTactics(TacticRegistry& registry);
void registerLayerNormTactics(TacticRegistry& registry);
void registerConcatTactics(TacticRegistry& registry);
void registerTransposeTactics(TacticRegistry& registry);
void registerChannelBlockTactics(TacticRegistry& registry);  // BlockChannels, UnblockChannels
void registerRnnTactics(TacticRegistry& registry);           // LSTM, GRU, RNN
void registerResizeTactics(TacticRegistry& registry);        // nearest

}  // namespace kiln::backends::cpu
