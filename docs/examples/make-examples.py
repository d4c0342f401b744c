"""Writes the three example 细则 documents of docs/examples/ in Word's format, with python-docx (an
independent writer of .docx, so that the importer is tested on files it did not produce itself).
The documents are made up, in the layouts real county and city documents use; their reviewed rubrics
are in rubrics/examples/ and their sample years in examples/.

Usage: pip install python-docx && python3 make-examples.py  (from this folder)
"""
from docx import Document


def document(title, header, rows, notes, merge_first=False):
    doc = Document()
    doc.add_paragraph("附件")
    doc.add_paragraph(title)
    table = doc.add_table(rows=0, cols=len(header))
    cells = table.add_row().cells
    for c, h in zip(cells, header):
        c.text = h
    previous = None
    for row in rows:
        cells = table.add_row().cells
        for i, value in enumerate(row):
            paragraphs = value if isinstance(value, list) else [value]
            cells[i].text = paragraphs[0]
            for p in paragraphs[1:]:
                cells[i].add_paragraph(p)
        # A first-level cell left empty continues the one above it: merged, as Word does.
        if merge_first and row[0] == "" and previous is not None:
            previous.merge(cells[0])
        elif merge_first:
            previous = cells[0]
    for n in notes:
        doc.add_paragraph(n)
    return doc


# A county's assessment of its departments: 序号 | 考核项目 | 分值 | 考核内容及评分标准; grade bands, a
# bonus category ("最多加5分"), a cap of the total and vetoes.
document(
    "2023年青山县安全生产委员会成员单位安全生产工作考核细则",
    ["序号", "考核项目", "分值", "考核内容及评分标准"],
    [
        ("1", "安全生产责任落实", "20分", ["（1）未制定本部门年度安全生产工作要点的，扣2分。",
                                    "（2）未按规定召开党组（党委）会议专题研究安全生产工作的，扣1分。",
                                    "（3）领导班子成员未按“一岗双责”要求开展安全生产检查的，每少1人次扣0.5分。"]),
        ("2", "行业领域监管执法", "30分", ["（1）未制定年度执法检查计划的，扣2分。",
                                    "（2）年度执法检查企业数低于上年度的，扣1分。",
                                    "（3）执法案卷评查不合格的，每件扣1分。",
                                    "（4）未按规定公开行政处罚信息的，每例扣0.5分。",
                                    "（5）重大事故隐患未按期整改销号的，视情扣1-5分。"]),
        ("3", "隐患排查治理", "20分", ["（1）未建立重大事故隐患台账的，扣2分。",
                                 "（2）隐患排查治理信息系统录入数低于上年的，扣2分。",
                                 "（3）挂牌督办的重大事故隐患逾期未整改的，每项扣2分。"]),
        ("4", "督导评议", "10分", ["由3个督导组结合日常检查情况评议打分。"]),
        ("5", "应急管理", "20分", ["（1）未修订部门应急预案的，扣2分。",
                               "（2）未组织开展应急演练的，扣3分。",
                               "（3）未按要求报送突发事件信息的，每次扣1分。"]),
        ("6", "加分项", "最多加5分", ["（1）获得省级及以上安全生产表彰的，加3分。",
                                "（2）获得市级安全生产表彰的，加2分。",
                                "（3）安全生产经验做法被县级以上推广的，每项加1分。"]),
        ("7", "一票否决", "—", ["本行业领域发生较大及以上生产安全事故的，实行一票否决。",
                            "瞒报、谎报生产安全事故的，实行一票否决。"]),
    ],
    ["备注：考核实行百分制，总分100分，加分后总分最高不超过100分。考核结果分为优秀、良好、合格、不合格四个等次："
     "得分90分及以上为优秀，80分及以上不满90分为良好，60分及以上不满80分为合格，60分以下为不合格。"
     "被一票否决的单位，考核等次直接确定为不合格。A类部门占5分、B类部门占3分，得分按比例折算，精确到小数点后两位。"
     "A类部门：应急管理局、住建局、交通运输局。B类部门：教育局、文旅局、卫健委。"],
).save("county-departments-2023.docx")

# A county's assessment of its towns: 考核内容 | 评分标准 | 分值, no 序号; 得分制 categories and metric
# steps ("比上年每多一起扣2分，最多扣10分"); no classes.
document(
    "2023年青山县镇（街道）安全生产工作考核细则",
    ["考核内容", "评分标准", "分值"],
    [
        ("一、责任体系建设", ["本项实行得分制。", "按要求制定镇（街道）安全生产责任清单的，得4分。",
                        "每季度召开一次安全生产形势分析会的，每次得2分，最多得8分。",
                        "落实安全生产网格化管理的，得4分。", "按时报送安全生产工作总结的，得4分。"], "20分"),
        ("二、事故控制", ["辖区生产安全事故起数比上年每多一起扣2分，最多扣10分；",
                      "死亡人数比上年每多一人扣5分。", "发生较大及以上生产安全事故的，一票否决。"], "30分"),
        ("三、隐患排查治理", ["本项实行得分制。", "建立隐患排查治理台账的，得5分。",
                        "每月开展一次隐患排查，每次得1分，最多得12分。", "重大事故隐患按期整改销号的，得8分。"], "25分"),
        ("四、监管执法", ["未按计划完成执法检查的，扣3分；执法文书不规范的，每份扣0.5分。"], "15分"),
        ("五、宣传培训", ["本项实行得分制。", "组织开展“安全生产月”活动的，得4分。",
                      "开展全员安全培训的，视覆盖面得3分至6分。"], "10分"),
    ],
    ["备注：各镇（街道）考核实行百分制，总分100分。考核结果分为优秀、良好、合格、不合格四个等次："
     "得分90分及以上为优秀，80分及以上不满90分为良好，60分及以上不满80分为合格，60分以下为不合格。"
     "被一票否决的，考核等次直接确定为不合格。参评单位：城关镇、青石镇、白溪街道、东湖街道、山南镇。"],
).save("county-towns-2023.docx")

# A city's two-level table: 一级指标 | 二级指标 | 分值 | 评分标准; the first level merged over its rows,
# each second-level row a section with its own maximum; a bonus row without a second level.
document(
    "2023年江城市安委会成员单位安全生产考核评分细则",
    ["一级指标", "二级指标", "分值", "评分标准"],
    [
        ("组织领导（25分）", "责任落实", "10", "未制定年度安全生产工作要点的，扣3分；未将安全生产纳入党组（党委）理论学习中心组学习内容的，扣2分。"),
        ("", "会议部署", "15", "未按规定召开安全生产专题会议的，每少一次扣2分；领导班子成员未带队开展安全检查的，每少1人次扣1分。"),
        ("监管执法（40分）", "执法检查", "20", "年度执法检查次数低于计划的，扣4分；执法案卷不合格的，每件扣2分。"),
        ("", "隐患治理", "10", "重大事故隐患未按期整改的，扣2-8分。"),
        ("", "督导评议", "10", "由5个督导组结合日常检查评议打分。"),
        ("应急处置（35分）", "预案管理", "15", "未修订应急预案的，扣3分；未开展应急演练的，扣4分。"),
        ("", "信息报送", "20", "迟报突发事件信息的，每次扣3分；瞒报、谎报生产安全事故的，一票否决。"),
        ("加分项（最多加5分）", "", "5", "获得省级以上安全生产表彰的，每项加2分；经验做法被市级以上推广的，每项加1分。"),
    ],
    ["备注：监测总分100分。A类部门占3分、B类部门占2分，得分按比例折算，精确到小数点后两位。"
     "A类部门：应急管理局、公安局。B类部门：气象局、档案馆、统计局。"],
    merge_first=True,
).save("city-two-level-2023.docx")
