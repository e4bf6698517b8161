"""Chinese place and street names for the synthetic demo county (see :mod:`wangge.demo.county`).

All names are invented from common surnames and common street-name stems; any likeness to a
real place is a coincidence. :class:`NamePool` hands out each name once, deterministically from
a numpy Generator.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NamePool"]

SURNAMES = list(
    "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷"
    "钱汤尹黎易常武乔贺赖龚文"
)

VILLAGE_SUFFIXES = ["家村", "湾村", "庄村", "集村", "岗村", "桥村", "店村", "庙村", "垸村", "台村"]
VILLAGE_PLAIN = [
    "石桥村", "双塘村", "新丰村", "红星村", "光明村", "联合村", "胜利村", "先锋村", "永安村",
    "太平村", "柳林村", "枣园村", "桃花村", "荷花村", "青山村", "白沙村", "长岭村", "高桥村",
    "河口村", "三合村", "新民村", "万福村", "金星村", "丰收村",
]  # fmt: skip
HAMLET_SUFFIXES = ["家屯", "家湾", "家台", "家岗", "家垸", "家咀", "家畈", "家庄", "家塆", "家墩"]

URBAN_COMMUNITIES = [
    "和平", "建设", "人民", "解放", "文化", "新华", "胜利", "幸福", "光明", "东风", "红旗", "友谊",
    "团结", "滨河", "朝阳", "民主", "育才", "南门", "北门", "西街", "东街", "城南", "城北", "新城",
    "锦绣", "金桥", "玉泉", "春晖", "阳光", "花园", "青年", "向阳",
]  # fmt: skip

MAJOR_STREETS = [
    "人民路", "建设路", "解放路", "中山路", "新华路", "文化路", "朝阳路", "青年路", "兴业路",
    "民主路", "和平路", "胜利路", "友谊路", "光明路", "红旗路", "东风路", "长江路", "汉江路",
    "楚天路", "城关大道", "东城大道", "迎宾大道", "站前路", "府前路", "学府路", "健康路",
    "育才路", "园林路", "富民路", "金桥路", "银河路", "凤凰路", "紫荆路", "玉兰路", "桂花路",
    "丹桂路", "梧桐路", "杨柳路", "前进路", "振兴路", "复兴路", "团结路", "幸福路", "滨江路",
]  # fmt: skip
LOCAL_STREETS = [
    "正街", "横街", "后街", "河街", "上街", "下街", "新街", "南街", "北街", "东街", "西街",
    "城隍街", "米市街", "盐市街", "鱼市街", "油坊街", "书院街", "仓前街", "竹器街", "大井街",
    "草市街", "花园街", "县前街", "学前街", "铁局街", "十字街", "马道街", "营房街", "三元街",
]  # fmt: skip
LANE_STEMS = [
    "油坊", "豆腐", "铁匠", "石板", "杨柳", "井边", "染坊", "打铜", "箍桶", "糖坊", "酱园",
    "炮铺", "剪刀", "棉花", "鸡鸭", "茶馆", "磨坊", "轿铺",
]  # fmt: skip


class NamePool:
    """Hand out unique Chinese names for the demo county, reproducibly.

    Parameters
    ----------
    rng
        Random generator; names depend only on its state.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def _unique(self, candidates: list[str], fallback_stem: str) -> str:
        order = self._rng.permutation(len(candidates))
        for i in order:
            if candidates[i] not in self._used:
                self._used.add(candidates[i])
                return candidates[i]
        n = 2
        while f"{fallback_stem}{n}" in self._used:
            n += 1
        name = f"{fallback_stem}{n}"
        self._used.add(name)
        return name

    def claim(self, name: str) -> str:
        """Reserve a fixed name so that no generated name repeats it."""
        self._used.add(name)
        return name

    def community(self) -> str:
        """An urban community name such as ``和平社区``."""
        return self._unique([f"{s}社区" for s in URBAN_COMMUNITIES], "新区社区")

    def village(self) -> str:
        """An administrative village name such as ``王家村`` or ``石桥村``."""
        if self._rng.random() < 0.3:
            return self._unique(VILLAGE_PLAIN, "新村")
        cands = [s + suf for s in SURNAMES for suf in VILLAGE_SUFFIXES]
        return self._unique(cands, "新村")

    def hamlet(self) -> str:
        """A natural village (自然村) name such as ``张家屯``."""
        return self._unique([s + suf for s in SURNAMES for suf in HAMLET_SUFFIXES], "新屯")

    def major_street(self) -> str:
        """An arterial or collector name such as ``人民路``."""
        return self._unique(MAJOR_STREETS, "新城路")

    def local_street(self) -> str:
        """A local street name such as ``米市街``."""
        cands = LOCAL_STREETS + [f"{s}家街" for s in SURNAMES[:40]]
        return self._unique(cands, "新街")

    def lane(self) -> str:
        """A lane name such as ``油坊巷`` or ``王家巷``."""
        cands = [f"{s}巷" for s in LANE_STEMS] + [f"{s}家巷" for s in SURNAMES]
        return self._unique(cands, "新巷")
