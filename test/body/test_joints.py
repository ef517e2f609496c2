from hoi_perception.body import joints as J


def test_lists_are_trees_with_expected_sizes():
    assert len(J.BODY_JOINTS) == 22 and len(J.BODY_PARENTS) == 22
    assert len(J.HAND_JOINTS) == 21 and len(J.HAND_PARENTS) == 21
    for names, parents in ((J.BODY_JOINTS, J.BODY_PARENTS), (J.HAND_JOINTS, J.HAND_PARENTS)):
        assert parents[0] == -1
        assert all(0 <= p < i for i, p in enumerate(parents) if i)
        assert len(set(names)) == len(names)


def test_body_left_right_are_symmetric():
    for i, name in enumerate(J.BODY_JOINTS):
        if name.startswith("left_"):
            j = J.BODY_JOINTS.index("right_" + name[5:])
            pl, pr = J.BODY_PARENTS[i], J.BODY_PARENTS[j]
            assert J.BODY_JOINTS[pl].replace("left_", "") == J.BODY_JOINTS[pr].replace("right_", "")


def test_hand_order_is_openpose():
    assert J.HAND_JOINTS[0] == "wrist"
    assert [J.HAND_JOINTS[t] for t in J.HAND_TIPS] == ["thumb4", "index4", "middle4", "ring4", "pinky4"]
    assert all(J.HAND_PARENTS[t - 3] == 0 for t in J.HAND_TIPS)


def test_every_canonical_joint_maps_to_an_anny_bone():
    assert set(J.ANNY_BODY_BONES) == set(J.BODY_JOINTS)
    for side in J.SIDES:
        table = J.anny_hand_bones(side)
        assert set(table) == set(J.HAND_JOINTS)
        assert all(bone.endswith(".L" if side == "left" else ".R") for bone, _ in table.values())
